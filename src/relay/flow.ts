/** The flow-control mechanism lives with the relay core (src/protocol/relay/flow.ts); the daemon imports it here. */
export { OutboundFlow, SendFlow, watchFlow, type FlowSignal, type Watermarks } from "../protocol/relay/flow.js";
