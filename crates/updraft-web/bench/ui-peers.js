// The peer `cargo xtask bench ui` measures `<updraft-uploader>` against, bundled for the
// page by esbuild: Uppy 6's Dashboard with its S3 plugin signing in the page
// (`getCredentials`), and both stylesheets (esbuild writes them beside the bundle).
export { default as Uppy } from "@uppy/core";
export { default as Dashboard } from "@uppy/dashboard";
export { default as AwsS3 } from "@uppy/aws-s3";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
