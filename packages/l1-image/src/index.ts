export { imageUsage, type ImageUsage } from './usage.js';
export { createParams, digestFromSums, importFileName, placement, specDigest, templateName, versionAt } from './spec.js';
export { buildTemplate, type BuildOptions, type BuildResult, type BuildStep } from './build.js';
export { promote, promoteChannels, rollback, rollbackChannels, type ChannelChange } from './channels.js';
export { listTemplates, serverGuests, type ImageListing, type ServerTemplate, type TemplateEntry, type TemplateListing } from './inventory.js';
export { planPrune, prune, templateTag, type PruneDecision } from './prune.js';
export { isLockError, withLockRetry } from './retry.js';
export { writeChannels, writeManifest } from './records.js';
export { capture, capturesDir, readCaptures, restoreCapture, type CaptureManifest, type CaptureResult } from './capture.js';
