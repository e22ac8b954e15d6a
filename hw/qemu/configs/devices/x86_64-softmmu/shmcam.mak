# The smallest x86_64 system for shmcam: the pc machine, a serial console,
# virtio-blk for guest images, ivshmem and shmcam-pci.

CONFIG_I440FX=y
CONFIG_IVSHMEM_DEVICE=y
CONFIG_SHMCAM_PCI=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
