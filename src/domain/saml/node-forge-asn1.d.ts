// node-forge's ASN.1 and buffer modules alone: lib/asn1.js loads forge.js, util.js and oids.js, where the package's main
// loads some 40 modules (TLS, PKCS#12, ciphers) breakglass never calls, a fifth of `metadata inspect`'s start-up. Each
// module exports its part of the forge namespace.
declare module "node-forge/lib/asn1.js" {
  import type forge from "node-forge";
  const asn1: typeof forge.asn1;
  export = asn1;
}

declare module "node-forge/lib/util.js" {
  import type forge from "node-forge";
  const util: typeof forge.util;
  export = util;
}
