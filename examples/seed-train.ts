// The seed program in TypeScript: SimpleCNN (conv → ReLU → max-pool → SEBlock → linear) trained on an image
// folder with ToTensor + Normalize(0.5, 0.5), batch 64, shuffle, Adam lr 0.001, cross-entropy, printing the
// loss each epoch — line for line the original PyTorch program.
// Usage: npx tsc -p . && node dist/examples/seed-train.js ../shared/datasets/cifar10-jpeg [epochs]
import { torch, models, data } from '../src/index.js';

const root = process.argv[2] ?? '../shared/datasets/cifar10-jpeg';
const epochs = Number(process.argv[3] ?? 10);

const trainSet = await data.loadImageFolder(root, 'train');
const loader = new data.DataLoader(trainSet, {
  batchSize: 64,
  shuffle: true,
  transform: { augment: 'none', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
});
const model = new models.SimpleCNN();
const optimizer = new torch.optim.Adam(model.parameters(), { lr: 0.001 });

for (let epoch = 0; epoch < epochs; epoch++) {
  let loss = 0;
  for await (const { x, y } of loader.epoch(epoch)) {
    loss = torch.tidy(() => {
      const l = torch.F.crossEntropy(model.forward(x), y);
      optimizer.zeroGrad();
      l.backward();
      optimizer.step();
      return l.item();
    });
    torch.dispose([x, y]);
  }
  console.log(`Epoch [${epoch + 1}/${epochs}], Loss: ${loss.toFixed(4)}`);
}
