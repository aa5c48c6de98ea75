/**
 * offers.json as a StoreFile (store-file.ts: cached reads, locked atomic 0600 writes shared by the CLI and the
 * daemon) with the offers format (offers-file-format.ts).
 */
import { type OfferRecord, OfferStoreError } from "./offer-record.js";
import {
  OFFERS_FILE,
  offersFileCorrupt,
  parseOffersFile,
  pruneInactive,
  serializeOffersFile,
} from "./offers-file-format.js";
import { StoreFile } from "./store-file.js";

export class OffersFile extends StoreFile<OfferRecord> {
  constructor(home: string, clock: () => number) {
    super(
      home,
      OFFERS_FILE,
      {
        parse: parseOffersFile,
        serialize: serializeOffersFile,
        prune: pruneInactive,
        corrupt: offersFileCorrupt,
        unreadable: (_path, message, cause) => new OfferStoreError("OFFER_STORE_UNREADABLE", message, { cause }),
      },
      clock,
    );
  }
}
