// The index room's front door: index objects (FORMAT.md section 5) and the in-memory MasterIndex.
export { decodeIndex, encodeIndex, INDEX_VERSION, type EncodedIndex } from './index/codec.ts';
export { MasterIndex } from './index/master-index.ts';
export { SpilledIds, type SpilledIdsOptions } from './index/spilled-ids.ts';
export { SpilledIndex, type BlobLocator } from './index/spilled-index.ts';
