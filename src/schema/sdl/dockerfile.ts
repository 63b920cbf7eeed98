/**
 * Dockerfile builds: `Directory.dockerBuild`, run on tanto's own solver.
 * (`secrets` and `ssh` of Dagger's signature are not offered yet.)
 */
export const dockerfileSDL = /* GraphQL */ `
input BuildArg {
  name: String!
  value: String!
}

extend type Directory {
  dockerBuild(dockerfile: String = "Dockerfile", platform: Platform, buildArgs: [BuildArg!] = [], target: String = "", noInit: Boolean = false): Container!
}
`;
