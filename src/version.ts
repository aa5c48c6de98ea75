/** Versions reported in server_info and `paseo --version`. Kept in code so browser bundles need no package.json. */
export const PASEO_VERSION = "0.1.0";
export const PROTOCOL_VERSION = 1;
