/**
 * Who else can change PASEO_HOME? Its files decide which daemon a client talks to (local-offer.json) and which
 * offers a daemon accepts (offers.json): if another user can write the directory, or owns it, they can swap those
 * files — root's `paseo exec --home /shared` then ran on an attacker's daemon. Like ssh's StrictModes we refuse,
 * with a named error that says the fix, instead of silently following it:
 *   - the home must be owned by us and not writable by group or others;
 *   - every ancestor must be owned by us or root and not writable by others unless sticky (/tmp is fine: nobody
 *     can rename our directory out of a sticky directory);
 *   - a file read from the home must be owned by us and not writable by group or others.
 * No-ops where there are no uids (Windows).
 */
import { promises as fs, type Stats } from "node:fs";
import { dirname } from "node:path";
import { HomeError } from "./home.js";

const GROUP_OR_OTHER_WRITE = 0o022;
const OTHER_WRITE = 0o002;
const STICKY = 0o1000;

function myUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/** Refuse a home directory another user could change. Missing directories pass (ensureHome creates them 0700). */
export async function assertSafeHome(home: string): Promise<void> {
  const uid = myUid();
  if (uid === undefined) return;
  let st: Stats;
  try {
    st = await fs.stat(home);
  } catch {
    return; // absent: created by us with 0700, or reported by whoever reads from it
  }
  if (st.uid !== uid) {
    throw new HomeError(
      "HOME_UNSAFE",
      `paseo home ${home} is owned by uid ${st.uid}, not by you (uid ${uid}): that user controls which daemon and offers paseo would use. ` +
        `Use a home directory of your own (--home DIR or PASEO_HOME), or, if it is yours, \`chown ${uid} ${home}\``,
    );
  }
  if ((st.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    throw new HomeError(
      "HOME_UNSAFE",
      `paseo home ${home} is writable by other users (mode ${octal(st.mode)}): they could replace its offer files. ` +
        `Fix it with \`chmod 700 ${home}\` (and check its files were not tampered with), or use another --home`,
    );
  }
  for (let dir = dirname(home), prev = home; dir !== prev; prev = dir, dir = dirname(dir)) {
    let up: Stats;
    try {
      up = await fs.stat(dir);
    } catch {
      return;
    }
    if (up.uid !== uid && up.uid !== 0) {
      throw new HomeError(
        "HOME_UNSAFE",
        `paseo home ${home} is inside ${dir}, owned by uid ${up.uid} (not you or root), who could replace it. Use a home directory outside it`,
      );
    }
    if ((up.mode & OTHER_WRITE) !== 0 && (up.mode & STICKY) === 0) {
      throw new HomeError(
        "HOME_UNSAFE",
        `paseo home ${home} is inside ${dir}, which every user can write (mode ${octal(up.mode)}) and could rename it. ` +
          `Fix it with \`chmod o-w ${dir}\` (or \`chmod +t ${dir}\`), or use a home directory elsewhere`,
      );
    }
  }
}

/** Refuse a file from the home that another user owns or can write (`st` from fstat of the open handle). */
export function assertSafeFile(path: string, st: Stats): void {
  const uid = myUid();
  if (uid === undefined) return;
  if (st.uid !== uid) {
    throw new HomeError(
      "FILE_UNSAFE",
      `${path} is owned by uid ${st.uid}, not by you (uid ${uid}): another user may have put it there. ` +
        "Do not use it: remove it (and find out who wrote it), then restart the daemon if it is yours",
    );
  }
  if ((st.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    throw new HomeError(
      "FILE_UNSAFE",
      `${path} is writable by other users (mode ${octal(st.mode)}): it may have been replaced. ` +
        `Remove it (or \`chmod 600 ${path}\` if you are sure it is yours) and restart the daemon`,
    );
  }
}
