// Fine Uploader S3 with its UI, as the seed's page loads it: the UI build (no-server
// workflow included), its stylesheet and images, and the default template the page holds.
export { default as FineUploaderS3 } from "fine-uploader/lib/s3";
export { default as template } from "fine-uploader/s3.fine-uploader/templates/default.html";
import "fine-uploader/s3.fine-uploader/fine-uploader-new.min.css";
