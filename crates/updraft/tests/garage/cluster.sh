#!/usr/bin/env bash
# A 3-node Garage cluster on loopback (issue 19), for the conformance tests of the CLI
# (crates/updraft/tests/garage.rs) and the browser package (crates/updraft-web/tests/e2e/
# garage.test.mjs): replication 3, lmdb, one config per node, the nodes connected and laid
# out, a fixed test key imported, the bucket made with the CORS rule a page needs.
#
#   cluster.sh GARAGE DIR APP_ORIGIN UPDRAFT AWS_CLI
#
# GARAGE is the garage 2.5.0 binary; DIR an empty directory; the CORS rule is the one
# `updraft setup aws` writes (UPDRAFT's own), put with the AWS CLI. Leaves the three servers
# running and writes DIR/cluster.json: endpoint, region, bucket, key, and per node its
# config, pid and the command that starts it again. Stop them with `kill` of the pids.
# This is also the tested setup docs/self-hosted-s3.md describes.
set -euo pipefail

garage=$1
dir=$2
origin=$3
updraft=$4
aws=$5
bucket=conformance
region=garage
key_id=GK0123456789abcdef01234567
key_secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

# Free loopback ports: 3 RPC, 3 S3, 3 admin.
read -r -a ports < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(9)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()')

nodes_json=""
for i in 0 1 2; do
  n=$((i + 1))
  mkdir -p "$dir/node$n/meta" "$dir/node$n/data"
  cat > "$dir/node$n.toml" <<EOF
metadata_dir = "$dir/node$n/meta"
data_dir = "$dir/node$n/data"
db_engine = "lmdb"
replication_factor = 3
rpc_bind_addr = "127.0.0.1:${ports[$i]}"
rpc_public_addr = "127.0.0.1:${ports[$i]}"
rpc_secret = "$secret"

[s3_api]
s3_region = "$region"
api_bind_addr = "127.0.0.1:${ports[$((i + 3))]}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:${ports[$((i + 6))]}"
EOF
  setsid "$garage" -c "$dir/node$n.toml" server > "$dir/node$n.log" 2>&1 < /dev/null &
  echo $! > "$dir/node$n.pid"
done

g() { "$garage" -c "$dir/node1.toml" "$@"; }
for _ in $(seq 100); do g status > /dev/null 2>&1 && break; sleep 0.1; done
for n in 2 3; do
  id=$("$garage" -c "$dir/node$n.toml" node id -q 2> /dev/null)
  for _ in $(seq 50); do g node connect "$id" > /dev/null 2>&1 && break; sleep 0.1; done
done
for n in 1 2 3; do
  id=$("$garage" -c "$dir/node$n.toml" node id -q 2> /dev/null)
  g layout assign -z dc1 -c 1G "${id%@*}" > /dev/null
done
g layout apply --version 1 > /dev/null
g key import --yes -n conformance "$key_id" "$key_secret" > /dev/null
g bucket create "$bucket" > /dev/null
g bucket allow --read --write --owner "$bucket" --key conformance > /dev/null

# The bucket's CORS rule, through the S3 API as its owner: the one `updraft setup aws`
# writes. Garage matches AllowedHeaders case-sensitively and echoes `*` literally; the
# rule lists the package's headers, lower case.
"$updraft" setup aws --bucket "$bucket" --app-origin "$origin" --cognito-guest --emit cloudformation > "$dir/template.json"
python3 - "$dir" "$origin" "${ports[3]}" "$region" "$bucket" "$key_id" "$key_secret" <<'PY'
import json, sys
dir, origin, port, region, bucket, key_id, secret = sys.argv[1:]
rule = json.load(open(f"{dir}/template.json"))["Resources"]["UploadsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0]
names = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
json.dump({"CORSRules": [{names.get(k, k): v for k, v in rule.items()}]}, open(f"{dir}/cors.json", "w"))
nodes = []
for n in (1, 2, 3):
    config = f"{dir}/node{n}.toml"
    nodes.append({"config": config, "pid": int(open(f"{dir}/node{n}.pid").read()), "log": f"{dir}/node{n}.log"})
json.dump({
    "endpoint": f"http://127.0.0.1:{port}",
    "region": region,
    "bucket": bucket,
    "accessKeyId": key_id,
    "secretAccessKey": secret,
    "appOrigin": origin,
    "nodes": nodes,
}, open(f"{dir}/cluster.json", "w"), indent=2)
PY
AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$key_secret AWS_DEFAULT_REGION=$region \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  "$aws" --endpoint-url "http://127.0.0.1:${ports[3]}" s3api put-bucket-cors --bucket "$bucket" \
  --cors-configuration "file://$dir/cors.json"
echo "$dir/cluster.json"
