// AWS Amplify Storage: Amplify.configure wires Cognito credentials; uploadData uploads.
export { Amplify } from "aws-amplify";
export { uploadData } from "aws-amplify/storage";
