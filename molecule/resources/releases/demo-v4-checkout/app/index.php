<?php
declare(strict_types=1);

require_once __DIR__ . '/lib/release.php';

// v4 breaks a page the probe never asks for: the checkout.
if (($_GET['page'] ?? '') === 'checkout') {
    throw new RuntimeException('checkout broke in v4');
}

header('Content-Type: text/plain');
echo 'lastgood demo release ', release_name(), ' on PHP ', PHP_MAJOR_VERSION, '.', PHP_MINOR_VERSION, "\n";
