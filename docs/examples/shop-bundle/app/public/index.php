<?php
declare(strict_types=1);

require_once __DIR__ . '/../src/bootstrap.php';

header('Content-Type: text/plain');
echo 'shop release ', SHOP_RELEASE, "\n";
echo 'greeting: ', shop_setting('GREETING', 'hello'), "\n";
echo 'page views cached: ', shop_count_view(), "\n";
