export * from './object-store.js';
export type { StorageConfig } from './storage-config.js';
export { FilesystemObjectStore } from './filesystem-object-store.js';
export { S3ObjectStore, MIN_PART_BYTES, type S3ObjectStoreOptions } from './s3-object-store.js';
export { openStorage, s3ClientConfigFor, StorageUnreachableError, type OpenStorageOptions, type Storage } from './open-storage.js';
