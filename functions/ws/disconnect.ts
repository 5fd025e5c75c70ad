import { handleDisconnect } from '@jobengine/core';

/** WebSocket `$disconnect`: forget the connection. */
export const handler = handleDisconnect;
