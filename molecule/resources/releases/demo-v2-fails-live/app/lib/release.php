<?php
declare(strict_types=1);

function release_name(): string
{
    return 'v2';
}
