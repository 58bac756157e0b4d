// The peers the browser bench measures updraft against, bundled for the page by esbuild:
// the AWS SDK v3's lib-storage Upload, POST-policy form uploads signed by
// @aws-sdk/s3-presigned-post (a simple request: no CORS preflight), and Uppy 6 with its
// AwsS3 plugin signing in the page (`getCredentials`, no Companion or signing server).
export { S3Client } from "@aws-sdk/client-s3";
export { Upload } from "@aws-sdk/lib-storage";
export { createPresignedPost } from "@aws-sdk/s3-presigned-post";
export { default as Uppy } from "@uppy/core";
export { default as AwsS3 } from "@uppy/aws-s3";
// Fine Uploader S3 5.16 (the seed's system), its core build, in its no-server mode: keys
// in the page (`credentials`), signature v4, concurrent chunking.
export { default as FineUploader } from "fine-uploader/lib/core/s3";
// The limit: the SDK's own SigV4 signer presigns raw PUTs before the clock starts.
export { SignatureV4 } from "@smithy/signature-v4";
export { CreateMultipartUploadCommand, CompleteMultipartUploadCommand } from "@aws-sdk/client-s3";
// EvaporateJS 2.1 with what its SigV4 mode needs the page to bring: MD5 and SHA-256.
export { default as Evaporate } from "evaporate";
export { default as SparkMD5 } from "spark-md5";
export { sha256 } from "js-sha256";
