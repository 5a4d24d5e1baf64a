//! The Python surface of the kernel (`eventgate._kernel`): classes and conversions.
