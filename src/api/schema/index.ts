/**
 * The GraphQL schema: the subset of the Dagger core API (0.21 line) that
 * tanto implements. Each part is one area of the API; a part may extend
 * types of another (`extend type Query { … }`).
 */
import { coreSDL } from "./core.js";
import { dockerfileSDL } from "./dockerfile.js";
import { imagesSDL } from "./images.js";
import { secretsSDL } from "./secrets.js";
import { servicesSDL } from "./services.js";
import { sourcesSDL } from "./sources.js";

export const SDL = [coreSDL, secretsSDL, servicesSDL, sourcesSDL, imagesSDL, dockerfileSDL].join("\n");
