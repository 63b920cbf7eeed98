/** Git refs compared: the best common ancestor (`git merge-base`). */
export const gitExtrasSDL = /* GraphQL */ `
extend type GitRef {
  commonAncestor(other: GitRefID!): GitRef!
}
`;
