"""Train the classifier with PyTorch DDP, one process per GPU (or per CPU slot), under torchrun.

Kubeflow Trainer's `torch-distributed` runtime gives each node torchrun's settings as `PET_*`
variables (nodes, processes per node, node rank, master address); torchrun starts the processes
and gives each `RANK`, `LOCAL_RANK`, `WORLD_SIZE`, `MASTER_ADDR` and `MASTER_PORT`, which
`init_process_group` reads. Without them (plain `python -m defects.train`) it trains alone.
NCCL on GPUs, gloo on CPUs. Each rank reads its shard of the data through a DistributedSampler;
rank 0 writes the checkpoint after every epoch, and a restarted job (a preempted spot node)
resumes from it. Rank 0 logs the parameters and each epoch's loss and validation accuracy to
MLflow where the step has a tracking store (defects.tracking).
"""

from __future__ import annotations

import argparse
import math
import os
import time


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--backbone", default="tiny", choices=("tiny", "resnet50", "efficientnet_b3", "convnext_tiny"))
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--amp", choices=("true", "false"), default="false", help="mixed precision (GPUs only)")
    ap.add_argument("--train", required=True, help="the train split (path or URI)")
    ap.add_argument("--val", required=True, help="the validation split (path or URI)")
    ap.add_argument("--num-images", type=int, required=True, help="all images: sizes the LR warm-up")
    ap.add_argument("--checkpoint", required=True, help="where to write the checkpoint (path or URI)")
    ap.add_argument("--batch-size", type=int, default=32, help="per process")
    ap.add_argument("--loader-workers", type=int, default=2, help="DataLoader processes (they share /dev/shm)")
    ap.add_argument("--pretrained", choices=("true", "false"), default="true")
    return ap


def main(argv: list[str] | None = None) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, Subset, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from defects import data, storage, tracking
    from defects.model import build

    args = parser().parse_args(argv)
    distributed = "WORLD_SIZE" in os.environ  # set by torchrun
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group(backend="nccl" if cuda else "gloo")  # env:// from torchrun's variables
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(0)  # the same initial weights on every rank (DDP broadcasts rank 0's anyway)

    def dataset(uri: str) -> TensorDataset:
        split = data.load(uri)
        return TensorDataset(torch.from_numpy(data.normalized(split["images"])), torch.from_numpy(split["labels"]))

    train_set, val_set = dataset(args.train), dataset(args.val)
    train_sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=train_sampler,
                        num_workers=args.loader_workers, pin_memory=cuda, drop_last=False)
    # validation shards are disjoint and cover the split exactly (DistributedSampler would pad it)
    val_loader = DataLoader(Subset(val_set, range(rank, len(val_set), world)), batch_size=args.batch_size)

    model = build(args.backbone, pretrained=args.pretrained == "true").to(device)
    if distributed:
        model = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    # linear warm-up over one pass of the data set by all ranks, then cosine decay
    warmup = max(1, math.ceil(args.num_images / (args.batch_size * world)))
    total = max(warmup + 1, args.epochs * len(loader))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / warmup if step < warmup else
                                                 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))))
    amp = args.amp == "true" and cuda
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    loss_fn = torch.nn.CrossEntropyLoss()

    start = 0
    if storage.exists(args.checkpoint):  # a restarted job resumes where rank 0 last saved
        with storage.open_uri(args.checkpoint, "rb") as fh:
            saved = torch.load(fh, map_location=device, weights_only=True)
        unwrap(model).load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        schedule.load_state_dict(saved["schedule"])
        start = int(saved["epoch"]) + 1
        log(rank, f"resuming after epoch {start - 1}")

    settings = {"backbone": args.backbone, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
                "processes": world, "amp": amp}
    with tracking.tracked("train", settings, here=rank == 0) as mlflow:
        for epoch in range(start, args.epochs):
            began = time.monotonic()
            train_sampler.set_epoch(epoch)  # a different shuffle each epoch, the same on every rank
            model.train()
            for images, labels in loader:
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast(device.type, enabled=amp):
                    loss = loss_fn(model(images), labels)
                scaler.scale(loss).backward()  # DDP all-reduces the gradients here
                scaler.step(optimizer)
                scaler.update()
                schedule.step()
            accuracy = evaluate(model, val_loader, device, distributed)
            log(rank, f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, val accuracy {accuracy:.4f}, "
                      f"{time.monotonic() - began:.1f}s on {world} process(es)")
            if mlflow:
                mlflow.log_metrics({"train_loss": loss.item(), "val_accuracy": accuracy}, step=epoch)
            if rank == 0:
                with storage.open_uri(args.checkpoint, "wb") as fh:
                    torch.save({"backbone": args.backbone, "epoch": epoch, "val_accuracy": accuracy,
                                "model": unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
                                "schedule": schedule.state_dict()}, fh)
            if distributed:
                dist.barrier()  # no rank starts the next epoch (or exits) before the checkpoint is written
    if distributed:
        dist.destroy_process_group()


def unwrap(model):
    return getattr(model, "module", model)


def evaluate(model, loader, device, distributed: bool) -> float:
    """Accuracy over the whole validation split: each rank counts its shard, then a sum across ranks."""
    import torch
    import torch.distributed as dist

    model.eval()
    counts = torch.zeros(2, device=device)
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images.to(device)).argmax(dim=1)
            counts += torch.tensor([(predicted == labels.to(device)).sum().item(), labels.numel()], device=device)
    if distributed:
        dist.all_reduce(counts)
    return (counts[0] / counts[1].clamp(min=1)).item()


def log(rank: int, message: str) -> None:
    if rank == 0:
        print(f"train: {message}", flush=True)


if __name__ == "__main__":
    main()
