/** What this layer is, as the layer contract (@ahl/core's LayerContract). */
export { layer } from './layer.js';
export { imageUsage, type ImageUsage } from './usage.js';
export { createParams, digestFromSums, importFileName, placement, specDigest, templateName, versionAt } from './spec.js';
export { buildTemplate, type BuildOptions, type BuildResult, type BuildStep } from './build.js';
export { promote, promoteChannels, rollback, rollbackChannels, type ChannelChange } from './channels.js';
export { guestOf, listTemplates, serverGuests, type ImageListing, type ServerTemplate, type TemplateEntry, type TemplateListing } from './inventory.js';
export { planPrune, prune, templateTag, type PruneDecision } from './prune.js';
export { isLockError, withLockRetry } from './retry.js';
export { writeChannels, writeManifest } from './records.js';
export { bootDisk, capture, capturesDir, captureToStore, labCaptureStore, readCaptures, restoreCapture, type CaptureManifest, type RestoreCaptureOptions, type CaptureResult, type StorageCapture, type StoreCapture } from './capture.js';
export { openCaptureStore, type CaptureStore } from './store.js';
export { renderNoCloud, writeSeedIso, type NoCloudSeed } from './seed.js';
