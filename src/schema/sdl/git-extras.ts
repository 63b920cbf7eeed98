/** Git refs compared (the best common ancestor, `git merge-base`), and a directory's own repository. */
export const gitExtrasSDL = /* GraphQL */ `
extend type GitRef {
  commonAncestor(other: GitRefID!): GitRef!
}

extend type Directory {
  asGit: GitRepository!
}
`;
