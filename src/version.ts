/** The tanto version, reported by `tanto version` and the API's `version`. */
export const VERSION = "0.1.0";
