# The smallest x86_64 system for shmcam that runs a real guest as well as
# the tests: the pc and q35 machines (with KVM: configure --enable-kvm), a
# serial console, virtio-blk and virtio-net for guest images and tap
# networking, ivshmem and shmcam-pci.

CONFIG_I440FX=y
CONFIG_Q35=y
CONFIG_IVSHMEM_DEVICE=y
CONFIG_SHMCAM_PCI=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
