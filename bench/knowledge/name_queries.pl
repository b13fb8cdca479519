#!/usr/bin/perl
# Search queries from the NAME lines of man pages: "ls \- list directory contents" gives
# "list directory contents" (mdoc pages: the .Nd line). Distinct descriptions, in a fixed
# pseudo-random order (by MD5), at most MAX of them.
#
#   name_queries.pl CORPUS_DIR MAX > queries.txt
use strict;
use warnings;
use File::Find;
use Digest::MD5 qw(md5_hex);

my ($root, $max) = @ARGV;
die "usage: $0 CORPUS_DIR MAX\n" unless defined $max && -d $root && $max =~ /^\d+$/;

sub plain {
  my ($s) = @_;
  $s =~ s/\\f(\[[^\]]*\]|\(..|.)//g;   # fonts
  $s =~ s/\\s[-+]?(\(..|\[[^\]]*\]|\d)//g;  # sizes
  $s =~ s/\\\(em|\\\[em\]/ - /g;
  $s =~ s/\\\((..)|\\\[[^\]]*\]/ /g;      # other special characters
  $s =~ s/\\-/-/g;
  $s =~ s/\\e/\\/g;
  $s =~ s/\\[&|^%:)]//g;
  $s =~ s/\\(.)/$1/g;
  $s =~ s/\s+/ /g;
  $s =~ s/^ | $//g;
  return $s;
}

my (%seen, @found);
find({ no_chdir => 1, wanted => sub {
  return unless -f $_ && !-l $_;
  open(my $fh, '<', $_) or return;
  my ($in_name, $text, $nd) = (0, '', undef);
  my $lines = 0;
  while (my $line = <$fh>) {
    last if ++$lines > 400;
    chomp $line;
    if ($line =~ /^\.Nd\s+(.*)/) { $nd = $1; last; }
    if ($line =~ /^\.S[Hh]\s+"?([^"]*)"?\s*$/) {
      last if $in_name;
      $in_name = $1 eq 'NAME';
      next;
    }
    next unless $in_name;
    next if $line =~ /^[.']\s*\\"/;
    if ($line =~ /^[.']\s*(B|I|BR|IR|RB|RI|Nm)?\s*(.*)$/ && $line =~ /^[.']/) {
      next unless defined $1;  # other requests carry no text
      $line = $2;
      $line =~ s/"//g;
    }
    $text .= ' ' . $line;
  }
  close $fh;
  my $desc;
  if (defined $nd) {
    $desc = plain($nd);
  } elsif ($text =~ /\s\\-\s+(.*)$/ || $text =~ /\\-\s*(.*)$/ || $text =~ /\s-\s+(.*)$/) {
    $desc = plain($1);
  }
  return unless defined $desc;
  return if length($desc) < 8 || length($desc) > 200 || $desc !~ /\w+\W+\w+/;
  my $key = lc $desc;
  return if $seen{$key}++;
  push @found, $desc;
}}, $root);

@found = sort { md5_hex($a) cmp md5_hex($b) } @found;
splice(@found, $max) if @found > $max;
print "$_\n" for @found;
