// The AWS JS SDK v3's lib-storage Upload against `updraft dev` (issue 4).
// Run by tests/aws_js_sdk.rs with NODE_PATH at the SDK's node_modules and the stack's
// endpoint and admin keys in UPDRAFT_* variables. Prints "ok" when every download equals
// its upload.
const { S3Client, GetObjectCommand, HeadObjectCommand } = require("@aws-sdk/client-s3");
const { Upload } = require("@aws-sdk/lib-storage");
const { Readable } = require("node:stream");
const crypto = require("node:crypto");

const client = new S3Client({
  endpoint: process.env.UPDRAFT_S3_ENDPOINT,
  region: process.env.UPDRAFT_REGION,
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.UPDRAFT_ACCESS_KEY_ID,
    secretAccessKey: process.env.UPDRAFT_SECRET_ACCESS_KEY,
  },
});
const Bucket = process.env.UPDRAFT_BUCKET;

async function roundTrip(Key, data, body) {
  const upload = new Upload({
    client,
    params: { Bucket, Key, Body: body ?? data },
    partSize: 5 * 1024 * 1024,
    queueSize: 4,
  });
  await upload.done();
  const got = await client.send(new GetObjectCommand({ Bucket, Key }));
  const bytes = Buffer.from(await got.Body.transformToByteArray());
  if (!bytes.equals(data)) {
    throw new Error(`${Key}: downloaded ${bytes.length} bytes differ from the ${data.length} uploaded`);
  }
  return (await client.send(new HeadObjectCommand({ Bucket, Key }))).ETag;
}

(async () => {
  const big = crypto.randomBytes(17 * 1024 * 1024);
  const etag = await roundTrip("js/big file ü+.bin", big);
  if (!/-4"$/.test(etag)) throw new Error(`17 MiB in 5 MiB parts should be a 4-part ETag, got ${etag}`);
  // A stream of unknown length: lib-storage buffers it into parts.
  await roundTrip("js/stream.bin", big, Readable.from([big.subarray(0, 7_000_000), big.subarray(7_000_000)]));
  // Smaller than a part: one PutObject.
  await roundTrip("js/small.txt", Buffer.from("small body"));
  console.log("ok");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
