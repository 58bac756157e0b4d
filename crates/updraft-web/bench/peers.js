// The peers the browser bench measures updraft against, bundled for the page by esbuild:
// the AWS SDK v3's lib-storage Upload, and POST-policy form uploads signed by
// @aws-sdk/s3-presigned-post (a simple request: no CORS preflight).
export { S3Client } from "@aws-sdk/client-s3";
export { Upload } from "@aws-sdk/lib-storage";
export { createPresignedPost } from "@aws-sdk/s3-presigned-post";
