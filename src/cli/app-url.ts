/**
 * `--app-url <url>` of `paseo daemon start` and `paseo daemon pair`: where pairing links point — a static host that
 * serves the packaged app (dist/web) and that the user trusts with the page that reads the offer. Saved in
 * config.json (key appUrl) like the relay, so every later link uses it.
 */
import { InvalidArgumentError } from "commander";
import { loadConfig, saveConfig } from "../daemon/home.js";
import { describeInput } from "../protocol/redact.js";

/** Accepts http(s) URLs without a fragment; commander argParser (an app URL holds no secret, echoing it is fine). */
export function parseAppUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new InvalidArgumentError(`expected a URL like https://you.github.io/paseo/ (got "${describeInput(text)}")`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hash !== "" || text.includes("#")) {
    throw new InvalidArgumentError(
      `the app URL must be http(s):// without a # fragment (got "${describeInput(text)}")`,
    );
  }
  if (url.username !== "" || url.password !== "")
    throw new InvalidArgumentError("the app URL must not hold a user name or password");
  return url.href;
}

/** Save the app URL to config.json (appUrl; drops the older publicUrl key so there is one source of truth). */
export async function saveAppUrl(home: string, appUrl: string): Promise<void> {
  const { publicUrl: _old, ...config } = await loadConfig(home);
  await saveConfig(home, { ...config, appUrl });
}
