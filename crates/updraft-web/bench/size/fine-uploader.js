// Fine Uploader S3 without its UI (the "core" build), the no-server workflow included.
export { default as FineUploaderS3 } from "fine-uploader/lib/core/s3";
