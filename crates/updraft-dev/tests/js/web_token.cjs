// Issue 5: the AWS JS SDK v3 signs in as a browser page does — fromWebToken (STS
// AssumeRoleWithWebIdentity) with a dev ID token — then writes and reads under the
// user's folder and is refused under another's. Prints "ok".
const { fromWebToken } = require("@aws-sdk/credential-provider-web-identity");
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");

(async () => {
  const e = process.env;
  const credentials = fromWebToken({
    roleArn: e.UPDRAFT_ROLE_ARN,
    webIdentityToken: e.UPDRAFT_TOKEN,
    roleSessionName: "js-sdk",
    clientConfig: { region: e.UPDRAFT_REGION, endpoint: e.UPDRAFT_STS_ENDPOINT },
  });
  const s3 = new S3Client({
    region: e.UPDRAFT_REGION,
    endpoint: e.UPDRAFT_S3_ENDPOINT,
    forcePathStyle: true,
    credentials,
  });
  await s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "alice/js.txt", Body: "from js" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: "uploads", Key: "alice/js.txt" }));
  const text = await got.Body.transformToString();
  if (text !== "from js") throw new Error(`read back ${JSON.stringify(text)}`);
  let refused = null;
  try {
    await s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "bob/js.txt", Body: "x" }));
  } catch (err) {
    refused = err.name;
  }
  if (refused !== "AccessDenied") throw new Error(`bob/: ${refused}`);
  console.log("ok");
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
