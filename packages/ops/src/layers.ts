import type { LayerContract, LayerId } from '@ahl/core';
import { layer as runway } from '@ahl/l0-runway';
import { layer as image } from '@ahl/l1-image';
import { layer as instantiate } from '@ahl/l2-instantiate';
import { layer as system } from '@ahl/l3-system';
import { layer as workload } from '@ahl/l4-workload';

/** The layers in their order, each as the layer contract: what ops walks instead of naming each. */
export const LAYERS = [runway, image, instantiate, system, workload] as const satisfies readonly LayerContract<never, unknown>[];

export const layerOf = (id: LayerId): (typeof LAYERS)[number] => LAYERS.find((l) => l.id === id)!;
