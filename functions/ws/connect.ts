import { handleConnect } from '@jobengine/core';

/** WebSocket `$connect`: authenticate (token + tenant) and store the connection. */
export const handler = handleConnect;
