// Uppy headless: core and the S3 plugin (signs in the page with getTemporarySecurityCredentials;
// the page still has to obtain those keys itself).
export { default as Uppy } from "@uppy/core";
export { default as AwsS3 } from "@uppy/aws-s3";
