/** Images in NHWC order, float32 scaled to [0, 1] then normalised per channel; labels 0..numClasses-1. */
export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface Dataset {
  /** e.g. 'fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic'. */
  name: string;
  /** Where it was read from (folder or file path), or 'generated' for synthetic. */
  source: string;
  inputShape: [number, number, number];
  numClasses: number;
  /** Natural images get random crop + horizontal flip during training. */
  natural: boolean;
  train: ImageSet;
  test: ImageSet;
  /** SHA-256 (hex) over the decoded content: changes iff the data changes. */
  fingerprint: string;
  /** Per-channel mean and std of the [0, 1]-scaled training pixels, applied to train and test. */
  normalization?: Normalization;
}

export interface Normalization {
  mean: number[];
  std: number[];
}

/** A seeded train/validation split of a dataset's training part. */
export interface DataSplit {
  name: string;
  inputShape: [number, number, number];
  numClasses: number;
  natural: boolean;
  fingerprint: string;
  normalization?: Normalization;
  train: ImageSet;
  val: ImageSet;
  test: ImageSet;
}
