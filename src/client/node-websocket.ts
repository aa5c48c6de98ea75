/**
 * `ws`'s WebSocket, for Node without a global WebSocket (< 22). Its own module so package.json's `browser` field can
 * map it to nothing: browser bundlers then never resolve `ws` at all (transport.ts imports this lazily).
 */
export { WebSocket } from "ws";
