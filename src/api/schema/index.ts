/**
 * The GraphQL schema: the subset of the Dagger core API (0.21 line) that
 * tanto implements. Each part is one area of the API; a part may extend
 * types of another (`extend type Query { … }`).
 */
import { coreSDL } from "./core.js";
import { secretsSDL } from "./secrets.js";

export const SDL = [coreSDL, secretsSDL].join("\n");
