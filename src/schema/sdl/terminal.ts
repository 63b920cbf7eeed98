/** Interactive terminals into a container, a directory or a running service (core/terminal.ts). */
export const terminalSDL = /* GraphQL */ `
extend type Container {
  "Opens an interactive terminal for this container using its configured default terminal command if not overridden by args (or sh as a fallback default)."
  terminal(cmd: [String!], experimentalPrivilegedNesting: Boolean, insecureRootCapabilities: Boolean): Container!
  "Set the default command to invoke for the container's terminal API."
  withDefaultTerminalCmd(args: [String!]!, experimentalPrivilegedNesting: Boolean = false, insecureRootCapabilities: Boolean = false): Container!
}

extend type Directory {
  "Opens an interactive terminal in new container with this directory mounted inside."
  terminal(container: ContainerID, cmd: [String!], experimentalPrivilegedNesting: Boolean, insecureRootCapabilities: Boolean): Directory!
}

extend type Service {
  "Opens an interactive terminal in this service's running container."
  terminal(cmd: [String!]): Service!
}
`;
