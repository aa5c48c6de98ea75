/**
 * Side effect on import, on purpose: main.ts imports this module FIRST, so ES module evaluation order runs the scrub
 * before commander and the commands load — the shortest window in which another user can read an offer from our
 * /proc/<pid>/cmdline. See ./argv-scrub.ts for what is done and verified.
 */
import { argvWarning, machineFacts, scrubOfferArgs, type ScrubResult } from "./argv-scrub.js";

export const argvScrub: ScrubResult = scrubOfferArgs(process.argv);

if (argvScrub.state !== "clean") {
  const warning = argvWarning(argvScrub, machineFacts());
  if (warning) process.stderr.write(`${warning}\n`);
}
