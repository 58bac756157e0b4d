// Uppy's Dashboard with the S3 plugin signing in the page (getCredentials): core, the
// Dashboard (which brings its thumbnail generator) and both stylesheets.
export { default as Uppy } from "@uppy/core";
export { default as Dashboard } from "@uppy/dashboard";
export { default as AwsS3 } from "@uppy/aws-s3";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
