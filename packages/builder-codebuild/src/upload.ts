// Stage 2: the packed context in S3 under its content hash, uploaded only when it is missing (HeadObject, then
// PutObject with its SHA-256, so S3 refuses a corrupted upload). The same context is uploaded once, however
// many builds use it.
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { awsErrorName, awsHttpStatus, isExpiredAwsCredentials } from "@imagespec/aws-common";
import type { Prepared } from "./prepare.ts";
import type { BuildRun } from "./run.ts";

/** Whether the bucket has the object. */
async function isUploaded(run: BuildRun, bucket: string, key: string): Promise<boolean> {
  try {
    await run.call((o) => run.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), o));
    return true;
  } catch (error) {
    // 404: missing. 403 is also S3's answer for a missing key to a caller without s3:ListBucket: upload.
    const status = awsHttpStatus(error);
    if (
      status === 404 ||
      awsErrorName(error) === "NotFound" ||
      (status === 403 && !isExpiredAwsCredentials(error))
    ) {
      return false;
    }
    throw run.awsFailure("upload", "s3:GetObject (HeadObject)", error);
  }
}

export async function uploadContext(run: BuildRun, { key, packed }: Prepared): Promise<void> {
  const { bucket } = run.settings;
  const where = `s3://${bucket}/${key}`;
  if (await isUploaded(run, bucket, key)) {
    run.log("upload", `${where} is already there: upload skipped`);
    return;
  }
  try {
    await run.call((o) =>
      run.clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: packed.archive,
          ContentType: "application/gzip",
          ChecksumSHA256: Buffer.from(packed.sha256, "hex").toString("base64"),
        }),
        o,
      ),
    );
  } catch (error) {
    throw run.awsFailure("upload", "s3:PutObject", error);
  }
  run.log("upload", `uploaded the context (${Math.ceil(packed.archive.length / 1024)} KiB) to ${where}`);
}
