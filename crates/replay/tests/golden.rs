mod golden_placeholder {}
