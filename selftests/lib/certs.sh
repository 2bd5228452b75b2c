#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A throw-away PKI for the etcd tests: a CA, server certificates (with IP
# subject alternative names) and client certificates, ECDSA P-256, valid
# from 2000 to 2099 so that VMs whose clocks differ a little all accept
# them (openssl ca backdates; req -x509 would start "now").
#
#   certs.sh DIR ca
#   certs.sh DIR server NAME IP[,IP...]
#   certs.sh DIR client NAME
#
# Writes DIR/ca.pem, DIR/NAME.pem and DIR/NAME.key.
set -euo pipefail

dir=$1 what=$2
mkdir -p "$dir"
cd "$dir"

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = policy_any
copy_extensions = none
unique_subject = no
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
CNF
[ -f index.txt ] || : > index.txt
[ -f serial ] || echo 1000 > serial

sign() {	# sign CSR OUT EXTFILE [-selfsign]
	openssl ca -batch -config ca.cnf -notext -startdate 20000101000000Z \
		-enddate 20991231000000Z -keyfile ca.key ${4:-} \
		$( [ -z "${4:-}" ] && echo "-cert ca.pem") \
		-in "$1" -out "$2" -extfile "$3" 2> sign.log
}

newkey() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

case "$what" in
ca)
	newkey ca.key
	openssl req -new -config ca.cnf -key ca.key -subj /CN=vrdma-test-ca -out ca.csr
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
	sign ca.csr ca.pem ca.ext -selfsign
	;;
server)
	name=$3 ips=$4
	newkey "$name.key"
	openssl req -new -config ca.cnf -key "$name.key" -subj "/CN=$name" -out "$name.csr"
	{
		printf 'subjectAltName='
		printf '%s\n' "$ips" | tr ',' '\n' | sed 's/^/IP:/' | paste -sd, -
		printf 'extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
	} > "$name.ext"
	sign "$name.csr" "$name.pem" "$name.ext"
	;;
client)
	name=$3
	newkey "$name.key"
	openssl req -new -config ca.cnf -key "$name.key" -subj "/CN=$name" -out "$name.csr"
	printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' > "$name.ext"
	sign "$name.csr" "$name.pem" "$name.ext"
	;;
*)
	echo "certs.sh: unknown command $what" >&2
	exit 2
	;;
esac
