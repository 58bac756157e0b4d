// EvaporateJS: multipart to S3; the page supplies the signer, MD5 and SHA-256 itself.
export { default as Evaporate } from "evaporate";
