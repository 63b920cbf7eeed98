// Publishing to a registry that needs a login, through the official SDK.
import { dag } from "@dagger.io/dagger";
import { image, report } from "./common.mjs";

const target = process.env.TANTO_AUTH_REGISTRY;
await report(async (out) => {
  const c = dag.container().from(image).withNewFile("/auth.txt", "logged in\n");
  try {
    await c.publish(`${target}/private:1`);
    out.anonymous = "published";
  } catch (err) {
    out.anonymous = String(err.message);
  }
  const password = dag.setSecret("registry-password", process.env.TANTO_AUTH_PASSWORD);
  out.published = await c.withRegistryAuth(target, "tanto", password).publish(`${target}/private:1`);
});
