/**
 * Dockerfile builds: `Directory.dockerBuild`, run on tanto's own solver.
 * `secrets` are what `RUN --mount=type=secret,id=NAME` mounts (by name);
 * `ssh` is the socket `RUN --mount=type=ssh` mounts (an ssh-agent's).
 */
export const dockerfileSDL = /* GraphQL */ `
input BuildArg {
  name: String!
  value: String!
}

extend type Directory {
  dockerBuild(dockerfile: String = "Dockerfile", platform: Platform, buildArgs: [BuildArg!] = [], target: String = "", secrets: [SecretID!] = [], noInit: Boolean = false, ssh: SocketID): Container!
}
`;
