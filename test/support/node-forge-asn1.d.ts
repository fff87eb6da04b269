// node-forge's ASN.1 and buffer modules alone, for the node-forge certificate reader kept as a test oracle
// (forge-certificate.ts): lib/asn1.js loads forge.js, util.js and oids.js, not the package's 40 modules. Each module
// exports its part of the forge namespace.
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
