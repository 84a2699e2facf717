#!/usr/bin/env bash
# Creates a development CA and the certificates the inference service needs for TLS and mutual TLS:
# ca.crt/ca.key, server.crt/server.key, client.crt/client.key (EC P-256, SHA-256).
# For development and tests only: never use these files in production.
set -euo pipefail

OPENSSL=${OPENSSL:-/usr/bin/openssl}
CA_DAYS=3650
SERVER_DAYS=825
CLIENT_DAYS=825
CLIENT_CN=parley-client

usage() {
  cat <<'EOF'
Usage: ops/tls/make-dev-certs.sh [--force] [out-dir] [server-hostname...]
  out-dir          where to write the files (default: ops/tls/dev)
  server-hostname  DNS names or IP addresses in the server certificate (default: localhost 127.0.0.1 ::1)
  --force          replace an existing CA in out-dir
EOF
}

force=0
args=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      echo "make-dev-certs: unknown option $arg" >&2
      usage >&2
      exit 2
      ;;
    *) args+=("$arg") ;;
  esac
done

out_dir=${args[0]:-ops/tls/dev}
if ((${#args[@]} > 1)); then
  names=("${args[@]:1}")
else
  names=(localhost 127.0.0.1 ::1)
fi

if [[ ! -x "$OPENSSL" ]]; then
  echo "make-dev-certs: $OPENSSL not found; install it with \`apt-get install openssl\` or set OPENSSL" >&2
  exit 1
fi

if [[ -e "$out_dir/ca.key" && $force -ne 1 ]]; then
  echo "make-dev-certs: $out_dir/ca.key already exists; not overwriting it." >&2
  echo "  Certificates signed by that CA would stop being trusted. Re-run with --force to replace them all." >&2
  exit 1
fi

mkdir -p "$out_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Keys are private from the moment they are written, not chmod-ed after being world-readable.
umask 077

san=()
for name in "${names[@]}"; do
  if [[ $name =~ ^[0-9]+(\.[0-9]+){3}$ || $name == *:* ]]; then
    san+=("IP:$name")
  else
    san+=("DNS:$name")
  fi
done
san_list=$(
  IFS=,
  echo "${san[*]}"
)

# Runs an openssl command quietly (OpenSSL 3 chats on stderr), showing its output only when it fails.
run() {
  local output
  if ! output=$("$@" 2>&1); then
    echo "make-dev-certs: failed: $*" >&2
    echo "$output" >&2
    return 1
  fi
}

new_key() {
  run "$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"
}

# Own config files, so that the result does not depend on the system's openssl.cnf.
cat >"$work/ca.cnf" <<'CNF'
[req]
prompt = no
distinguished_name = dn
x509_extensions = v3_ca
[dn]
O = Parley development
CN = Parley development CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

cat >"$work/csr.cnf" <<'CNF'
[req]
prompt = no
distinguished_name = dn
[dn]
CNF

cat >"$work/server.ext" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san_list
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

cat >"$work/client.ext" <<'CNF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# Everything is built in the temp dir and moved into place at the end, so that a failure halfway leaves
# out-dir as it was.
new_key "$work/ca.key"
run "$OPENSSL" req -x509 -new -config "$work/ca.cnf" -key "$work/ca.key" -sha256 -days "$CA_DAYS" \
  -out "$work/ca.crt"

# sign <name> <subject> <days>: a key, a request, and a certificate signed by the CA with <name>.ext.
sign() {
  local name=$1 subject=$2 days=$3
  new_key "$work/$name.key"
  run "$OPENSSL" req -new -config "$work/csr.cnf" -key "$work/$name.key" -subj "$subject" \
    -out "$work/$name.csr"
  run "$OPENSSL" x509 -req -in "$work/$name.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAserial "$work/ca.srl" -CAcreateserial -sha256 -days "$days" -extfile "$work/$name.ext" \
    -out "$work/$name.crt"
}
sign server "/O=Parley development/CN=${names[0]}" "$SERVER_DAYS"
sign client "/O=Parley development/CN=$CLIENT_CN" "$CLIENT_DAYS"

for file in ca server client; do
  chmod 600 "$work/$file.key"
  chmod 644 "$work/$file.crt"
  mv -f "$work/$file.key" "$work/$file.crt" "$out_dir/"
done

abs_dir=$(cd "$out_dir" && pwd)
cat <<EOF
Wrote a development CA and certificates to $abs_dir (never use them in production):
  ca.crt, ca.key          the CA, valid $CA_DAYS days
  server.crt, server.key  the inference server, valid $SERVER_DAYS days, for $san_list
  client.crt, client.key  a client (CN=$CLIENT_CN) for mutual TLS, valid $CLIENT_DAYS days

Point Parley at them:
  export PARLEY_INFERENCE_TLS_CA=$abs_dir/ca.crt
  export PARLEY_INFERENCE_TLS_CERT=$abs_dir/client.crt
  export PARLEY_INFERENCE_TLS_KEY=$abs_dir/client.key
The inference server serves server.crt with server.key, and checks clients' certificates against ca.crt.
EOF
