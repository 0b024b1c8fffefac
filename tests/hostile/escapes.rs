//! Placeholder: this class's tests land here.
