// The AWS SDK v3 for the same job: web-identity or Cognito keys, then a multipart Upload.
export { S3Client } from "@aws-sdk/client-s3";
export { Upload } from "@aws-sdk/lib-storage";
// The browser entry of credential-providers (its package.json maps it, esbuild misses the map).
export { fromWebToken, fromCognitoIdentityPool } from "@aws-sdk/credential-providers/dist-es/index.browser.js";
