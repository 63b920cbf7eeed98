/** The TypeScript client generator: introspection JSON → client.gen.ts. */
export { type GenerateOptions, generateTypescriptClient } from "./generate.js";
