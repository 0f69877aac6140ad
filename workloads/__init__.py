"""The latent diffusion benchmark suite that pytest-carbon measures (run: pytest workloads)."""
