// node:http and node:https, loaded through require() rather than an ES import. An ES import of
// node:http builds its module namespace, which reads every export, and some exports (WebSocket,
// fetch's classes) are getters that load Node's bundled undici: ~85 ms and ~13 MiB of RSS on the
// start of any command that merely has an S3 error table in its import graph. require() leaves
// the getters unread. eslint.config.js sends every import of these two modules here.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof Http;
export const https = require('node:https') as typeof Https;
