import { handleMessage } from '@jobengine/core';

/** WebSocket `$default`: subscribe, unsubscribe, ping. */
export const handler = handleMessage;
